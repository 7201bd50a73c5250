"""The openssl command line, as a third-party check of Trellis's CMS."""

import subprocess
from pathlib import Path


def cms_verify(
    signed: Path, ca: Path, content_out: Path
) -> subprocess.CompletedProcess[str]:
    """Run `openssl cms -verify` on DER SignedData with the CA as trust anchor."""
    return subprocess.run(
        [
            "openssl",
            "cms",
            "-verify",
            "-inform",
            "DER",
            "-in",
            str(signed),
            "-CAfile",
            str(ca),
            "-out",
            str(content_out),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
