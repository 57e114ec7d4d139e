"""The Flask extensions, created unbound and bound to an app in create_app."""

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)
# Batch mode lets Alembic alter tables on SQLite, which cannot ALTER most things in place.
migrate = Migrate(render_as_batch=True)
login_manager = LoginManager()
babel = Babel()
csrf = CSRFProtect()
# Storage comes from RATELIMIT_STORAGE_URI in the config: memory by default, Redis when set.
limiter = Limiter(key_func=get_remote_address, default_limits=[])
