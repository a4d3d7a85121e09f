"""One module per mining program: each renders a ``RigState`` in that program's API layout."""
