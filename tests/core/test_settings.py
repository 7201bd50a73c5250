import json
import os
import stat
import subprocess
import sys
from pathlib import Path

from trellis.settings import _private_folder


def test_the_data_folder_is_made_private(tmp_path) -> None:
    open_folder = tmp_path / "var"
    open_folder.mkdir(mode=0o755)
    os.chmod(open_folder, 0o755)

    _private_folder(open_folder)
    _private_folder(tmp_path / "new" / "var")

    assert stat.S_IMODE(open_folder.stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "new" / "var").stat().st_mode) == 0o700


def _settings_under(tmp_path, **env: str) -> dict:
    """Import the settings in a fresh interpreter with `env`; answer a few values."""
    script = (
        "import json; from trellis import settings as s; print(json.dumps({"
        "'session_secure': s.SESSION_COOKIE_SECURE, "
        "'csrf_secure': s.CSRF_COOKIE_SECURE, "
        "'session_http_only': s.SESSION_COOKIE_HTTPONLY, "
        "'csrf_http_only': s.CSRF_COOKIE_HTTPONLY, "
        "'hsts': s.SECURE_HSTS_SECONDS, "
        "'cache': s.CACHES['default']['BACKEND'], "
        "'proxies': [str(n) for n in s.TRELLIS_TRUSTED_PROXIES]}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        env={
            **{k: v for k, v in os.environ.items() if not k.startswith("TRELLIS_")},
            "TRELLIS_DATA_DIR": str(tmp_path),
            **env,
        },
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        return {"error": result.stderr.strip().splitlines()[-1]}
    return json.loads(result.stdout)


def test_an_https_address_makes_cookies_secure_and_turns_hsts_on(tmp_path) -> None:
    https = _settings_under(tmp_path, TRELLIS_BASE_URL="https://mdm.example.org")
    plain = _settings_under(tmp_path, TRELLIS_BASE_URL="http://127.0.0.1:8000")

    assert https["session_secure"] and https["csrf_secure"]
    assert https["session_http_only"] and https["csrf_http_only"]
    assert https["hsts"] >= 31_536_000
    assert not plain["session_secure"] and not plain["csrf_secure"]
    assert plain["hsts"] == 0


def test_the_cache_url_chooses_the_backend(tmp_path) -> None:
    default = _settings_under(tmp_path)
    redis = _settings_under(tmp_path, TRELLIS_CACHE_URL="redis://127.0.0.1:6379/4")
    wrong = _settings_under(tmp_path, TRELLIS_CACHE_URL="memcached://127.0.0.1")

    assert default["cache"] == "trellis.core.cache.DatabaseCache"
    assert redis["cache"] == "django.core.cache.backends.redis.RedisCache"
    assert "TRELLIS_CACHE_URL" in wrong["error"]


def test_trusted_proxies_are_read_as_networks(tmp_path) -> None:
    read = _settings_under(
        tmp_path, TRELLIS_TRUSTED_PROXIES="10.0.0.1, 192.168.0.0/16,2001:db8::/32"
    )
    wrong = _settings_under(tmp_path, TRELLIS_TRUSTED_PROXIES="10.0.0.1,proxy.lan")

    assert read["proxies"] == ["10.0.0.1/32", "192.168.0.0/16", "2001:db8::/32"]
    assert "TRELLIS_TRUSTED_PROXIES" in wrong["error"]
