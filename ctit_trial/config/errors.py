"""The one error a bad configuration value raises: the file, the YAML path of the value, and what is wrong."""


class ConfigFileError(ValueError):
    """A value of a seeds/ file (or of the database copy) is missing, of the wrong type or out of range."""

    def __init__(self, file: str, path: str, problem: str):
        self.file, self.path, self.problem = file, path, problem
        super().__init__(f"{file}: {path}: {problem}")
