import os
import stat

from trellis.settings import _private_folder


def test_the_data_folder_is_made_private(tmp_path) -> None:
    open_folder = tmp_path / "var"
    open_folder.mkdir(mode=0o755)
    os.chmod(open_folder, 0o755)

    _private_folder(open_folder)
    _private_folder(tmp_path / "new" / "var")

    assert stat.S_IMODE(open_folder.stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "new" / "var").stat().st_mode) == 0o700
