"""Password hashing, in one place: Werkzeug's salted scrypt, with the method (its cost) from the configuration."""

from __future__ import annotations

from werkzeug.security import check_password_hash, generate_password_hash


def hash_password(password: str, method: str) -> str:
    return generate_password_hash(password, method=method)


def matches(stored: str, password: str) -> bool:
    """Whether `password` is the one `stored` was made from; a constant-time comparison."""
    return check_password_hash(stored, password)
