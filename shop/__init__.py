"""The composition root: the `shop` command and the app factory. Wires; holds no logic."""
