"""Operator accounts of the console: who may sign in, to which sites, with which password.

One record per email in the store (``keys.operator_accounts``); an operator may belong to
several sites. Passwords are hashed with Argon2id (argon2-cffi, its default parameters, which
each hash carries), and checked off the event loop: a check takes tens of milliseconds of CPU.
An unknown email is checked against a dummy hash, so that it costs the same time as a wrong
password and the answer cannot tell which one it was.
"""

from __future__ import annotations

import re

import msgspec
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from starlette.concurrency import run_in_threadpool

from server.store.base import Store

ROLES = ("operator", "admin")
LANGUAGES = ("ja", "en")
# Deliberately simple: one @, no spaces, a dot in the domain. Sign-in compares emails lower-cased.
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
MAX_EMAIL = 254
MAX_PASSWORD = 1024  # Argon2 takes any length; this bounds the work one request can ask for


class AccountError(Exception):
    """A bad email, password, role or account operation; the message is one line for the user."""


class Operator(msgspec.Struct, frozen=True, kw_only=True):
    email: str
    name: str
    role: str = "operator"
    sites: tuple[str, ...] = ()
    language: str = "ja"
    password_hash: str = ""

    def on(self, site: str) -> bool:
        return site in self.sites


_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder(Operator).decode
_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("irasshai: an account that does not exist")


def normal_email(email: str) -> str:
    """`email` trimmed and lower-cased; AccountError if it does not look like one."""
    email = email.strip().lower()
    if len(email) > MAX_EMAIL or not EMAIL.match(email):
        raise AccountError(f"'{email[:80]}' is not an email address (expected name@example.com)")
    return email


def check_password(password: str) -> str:
    if not password:
        raise AccountError("the password is empty")
    if len(password) > MAX_PASSWORD:
        raise AccountError(f"the password is longer than {MAX_PASSWORD} characters")
    return password


def hash_password(password: str) -> str:
    return _hasher.hash(check_password(password))


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


class Accounts:
    """The operators' accounts in the store."""

    def __init__(self, store: Store):
        self.store = store

    async def get(self, email: str) -> Operator | None:
        record = await self.store.get_operator(email.strip().lower())
        return None if record is None else _decode(record)

    async def of_site(self, site: str) -> list[Operator]:
        records = await self.store.operators()
        found = [_decode(record) for record in records.values()]
        return sorted((operator for operator in found if operator.on(site)), key=lambda operator: operator.email)

    async def save(self, operator: Operator) -> None:
        await self.store.put_operator(operator.email, _encode(operator))

    async def add(
        self,
        site: str,
        email: str,
        *,
        name: str = "",
        role: str | None = None,
        language: str = "ja",
        password: str = "",
    ) -> tuple[Operator, bool]:
        """Add `email` to `site`: a new account (needs a password), or `site` added to an existing
        one (its password, name and language are kept; its role changes only if `role` is given). (the operator, whether the account is new)."""
        email = normal_email(email)
        if role is not None and role not in ROLES:
            raise AccountError(f"role '{role}' is not one of {', '.join(ROLES)}")
        if language not in LANGUAGES:
            raise AccountError(f"language '{language}' is not one of {', '.join(LANGUAGES)}")
        existing = await self.get(email)
        if existing is not None:
            sites = existing.sites if existing.on(site) else (*existing.sites, site)
            operator = msgspec.structs.replace(existing, sites=sites, role=role or existing.role)
            await self.save(operator)
            return operator, False
        password_hash = await run_in_threadpool(hash_password, password)
        operator = Operator(
            email=email,
            name=name.strip() or email.split("@")[0],
            role=role or "operator",
            sites=(site,),
            language=language,
            password_hash=password_hash,
        )
        await self.save(operator)
        return operator, True

    async def remove(self, site: str, email: str) -> Operator:
        """Take `email` off `site`; the account goes when it is on no site any more."""
        operator = await self.get(email)
        if operator is None or not operator.on(site):
            raise AccountError(f"no operator {email.strip().lower()[:80]} on site {site}")
        sites = tuple(key for key in operator.sites if key != site)
        if sites:
            await self.save(msgspec.structs.replace(operator, sites=sites))
        else:
            await self.store.delete_operator(operator.email)
        return operator

    async def set_password(self, site: str, email: str, password: str) -> None:
        operator = await self.get(email)
        if operator is None or not operator.on(site):
            raise AccountError(f"no operator {email.strip().lower()[:80]} on site {site}")
        password_hash = await run_in_threadpool(hash_password, password)
        await self.save(msgspec.structs.replace(operator, password_hash=password_hash))

    async def set_language(self, operator: Operator, language: str) -> Operator:
        if language not in LANGUAGES:
            raise AccountError(f"language '{language[:16]}' is not one of {', '.join(LANGUAGES)}")
        changed = msgspec.structs.replace(operator, language=language)
        await self.save(changed)
        return changed

    async def sign_in(self, email: str, password: str) -> Operator | None:
        """The operator if `password` is theirs; None otherwise, after the same work either way."""
        operator = await self.get(email[:MAX_EMAIL])
        password = password[:MAX_PASSWORD]
        password_hash = operator.password_hash if operator is not None else _DUMMY_HASH
        matches = await run_in_threadpool(_verify, password_hash, password)
        if operator is None or not matches or not operator.sites:
            return None
        return operator
