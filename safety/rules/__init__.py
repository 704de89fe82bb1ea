"""Pure safety rules: CTCAE grading, DLT flagging, platelet endpoints, visit windows and SAE clocks.

No ORM and no clock: every function takes its facts, dates/instants and typed configuration as arguments.
Modules: catalogue (CTCAE seed → dataclasses), grading, dlt, endpoints, windows, sae.
"""
