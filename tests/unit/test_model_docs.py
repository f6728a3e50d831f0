"""Model docstrings become table comments; Tortoise's SQLite migration runner splits statements
on ";" and does not escape quotes, so such characters in a docstring break `shop migrate`."""

from tortoise import Tortoise

from commerce.db import MODEL_MODULES


def test_model_docstrings_are_safe_as_table_comments():
    Tortoise.init_models(MODEL_MODULES, "models", _init_relations=False)
    unsafe = {
        name: model.__doc__
        for name, model in Tortoise.apps["models"].items()
        if model.__doc__ and any(char in model.__doc__ for char in ";'\"")
    }
    assert not unsafe, unsafe
