"""The database cache used when no Redis is configured."""

import base64
import pickle
from typing import Any

from django.core.cache.backends import db
from django.db import connections, router, transaction
from django.utils import timezone


class DatabaseCache(db.DatabaseCache):
    """Django's database cache, with an increment that holds across web workers.

    Django's own increment reads the value, adds, and writes it back with the
    default timeout: two workers counting at once lose a count, and every
    increment moves the key's expiry. Here the row is locked for the
    read-modify-write (SELECT … FOR UPDATE; on SQLite the write transaction
    itself excludes other writers) and its expiry is kept.
    """

    def __init__(self, table: str, params: dict[str, Any]) -> None:
        super().__init__(table, params)
        self.table = table

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        key = self.make_and_validate_key(key, version=version)
        alias = router.db_for_write(self.cache_model_class)
        connection = connections[alias]
        quote = connection.ops.quote_name
        table = quote(self.table)
        lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
        now = connection.ops.adapt_datetimefield_value(
            timezone.now().replace(microsecond=0)
        )
        # Only identifiers Trellis chose are formatted in; values are parameters.
        select = (
            f"SELECT {quote('value')} FROM {table} "  # noqa: S608
            f"WHERE {quote('cache_key')} = %s AND {quote('expires')} > %s{lock}"
        )
        update = (
            f"UPDATE {table} SET {quote('value')} = %s "  # noqa: S608
            f"WHERE {quote('cache_key')} = %s"
        )

        with transaction.atomic(using=alias), connection.cursor() as cursor:
            cursor.execute(select, [key, now])
            row = cursor.fetchone()
            if row is None:
                raise ValueError(f"Key '{key}' not found")
            value = self._decode(row[0]) + delta
            cursor.execute(update, [self._encode(value), key])
        return value

    def _encode(self, value: object) -> str:
        # The storage format of Django's database cache: pickle, in base64.
        return base64.b64encode(pickle.dumps(value, self.pickle_protocol)).decode(
            "latin1"
        )

    @staticmethod
    def _decode(stored: str) -> Any:
        # Rows of Trellis's own cache table, written by this class or Django's.
        return pickle.loads(base64.b64decode(stored.encode()))  # noqa: S301
