"""Editors from Debian's archive, installed when missing: a test that needs one fails with the
reason when it cannot be had, never skips."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest


def missing(packages: list[str]) -> list[str]:
    if shutil.which("dpkg-query") is None:
        return []  # not Debian: what is on PATH is all there is to go on
    out = subprocess.run(
        ["dpkg-query", "-W", "-f=${Package} ${Status}\n", *packages],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    ).stdout
    installed = {
        line.split()[0] for line in out.splitlines() if line.endswith("install ok installed")
    }
    return [p for p in packages if p not in installed]


def apt_get(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["apt-get", *args],
        env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def ensure(binary: str, packages: list[str]) -> str:
    """The path of `binary`, after installing whichever of `packages` are missing."""
    found = shutil.which(binary)
    need = missing(packages)
    if found is not None and not need:
        return found
    need = need or packages
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        pytest.fail(
            f"this test needs `{binary}` (Debian: apt-get install {' '.join(need)}); "
            "it is missing, and cannot be installed here"
        )
    install = ["install", "-y", "-q", "--no-install-recommends", *need]
    done = apt_get(*install)
    if done.returncode != 0:  # a fresh machine may not have the package lists yet
        apt_get("update", "-q")
        done = apt_get(*install)
    found = shutil.which(binary)
    if done.returncode != 0 or found is None:
        pytest.fail(f"`apt-get {' '.join(install)}` failed ({done.returncode}):\n{done.stdout}")
    return found
