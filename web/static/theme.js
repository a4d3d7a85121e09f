// Before the page paints: the theme the user picked on this browser, else the browser's own.
(function () {
  var picked = localStorage.getItem("minerwatch-theme");
  if (picked === "light" || picked === "dark") document.documentElement.dataset.theme = picked;
})();
