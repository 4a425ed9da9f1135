"""The README's pictures are files in the repository (`make screenshots` takes them again)."""

import re
from pathlib import Path

from django.conf import settings


def test_every_picture_the_readme_shows_is_in_the_repository():
    readme = (Path(settings.BASE_DIR) / "README.md").read_text()
    pictures = re.findall(r"!\[[^\]]*\]\(([^)]+\.png)\)", readme)

    assert {Path(picture).stem for picture in pictures} >= {
        "dashboard",
        "customer_360",
        "kanban",
        "chat",
        "ticket",
    }
    for picture in pictures:
        assert (Path(settings.BASE_DIR) / picture).is_file(), picture
