def test_imports() -> None:
    import inventory  # noqa: F401
