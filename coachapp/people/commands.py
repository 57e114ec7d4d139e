"""flask people ...: people on the command line."""

from flask.cli import AppGroup

people_cli = AppGroup("people", help="Add people in bulk from a CSV file.")
