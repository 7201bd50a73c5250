import pytest
from django.core.management import CommandError, call_command


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (
            ["--portal", "http://127.0.0.1:9/enroll", "--code", "X", "--count", "0"],
            "at least 1",
        ),
        (["--profile", "/nonexistent/profile.mobileconfig"], "Cannot read the profile"),
        ([], "Give --profile FILE"),
        (
            ["--profile", "a", "--profile", "b", "--count", "3"],
            "3 devices need 3 profiles",
        ),
    ],
)
def test_bad_arguments_are_explained(arguments: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        call_command("simulate_devices", *arguments)
