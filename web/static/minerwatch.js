// The pages' behaviour: no inline script anywhere (the CSP forbids it), so each feature hooks
// itself onto data-* attributes here, on load and after every htmx swap.
"use strict";

const minerwatch = (() => {
  const dark = () => {
    const picked = document.documentElement.dataset.theme;
    return picked ? picked === "dark" : matchMedia("(prefers-color-scheme: dark)").matches;
  };

  function toggleTheme() {
    const next = dark() ? "light" : "dark";
    document.documentElement.dataset.theme = next;
    localStorage.setItem("minerwatch-theme", next);
    document.dispatchEvent(new CustomEvent("minerwatch:theme"));
  }

  // Features register here: each runs on the document at load and on every swapped-in fragment.
  const features = [];
  function feature(run) {
    features.push(run);
  }
  function activate(root) {
    for (const run of features) run(root);
  }

  feature((root) => {
    for (const button of root.querySelectorAll("[data-theme-toggle]")) button.addEventListener("click", toggleTheme);
  });

  document.addEventListener("DOMContentLoaded", () => activate(document));
  document.addEventListener("htmx:load", (event) => {
    if (event.target !== document.body) activate(event.target);
  });
  return { feature, dark };
})();
