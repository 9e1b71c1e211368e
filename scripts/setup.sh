#!/usr/bin/env sh
# Set-up used by `make run` and `make test`: a virtual environment with the requirements,
# and ExifTool from the OS. Safe to run again: it only does what is missing.
#   scripts/setup.sh VENV REQUIREMENTS_FILE
set -eu
VENV=${1:-.venv}
REQ=${2:-requirements.txt}
PYTHON=${PYTHON:-python3}

is_root() { [ "$(id -u)" = 0 ]; }
apt_install() {
    # apt-get update once per set-up, then install the named packages
    if [ -z "${_APT_UPDATED:-}" ]; then apt-get update -qq; _APT_UPDATED=1; fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# 1. virtual environment
if [ ! -x "$VENV/bin/python" ]; then
    echo "setup: creating virtual environment $VENV"
    if ! "$PYTHON" -m venv "$VENV" 2>/dev/null; then
        rm -rf "$VENV"
        if is_root && command -v apt-get >/dev/null 2>&1; then
            pyver=$("$PYTHON" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
            apt_install "python$pyver-venv" || apt_install python3-venv
            "$PYTHON" -m venv "$VENV"
        else
            echo "setup: '$PYTHON -m venv' failed. On Debian/Ubuntu install it with: sudo apt-get install python3-venv" >&2
            exit 1
        fi
    fi
fi

# 2. Python packages (again only when the requirements file changed)
stamp="$VENV/.installed-$(basename "$REQ")"
if [ ! -f "$stamp" ] || [ "$REQ" -nt "$stamp" ] || [ requirements.txt -nt "$stamp" ]; then
    echo "setup: installing $REQ"
    "$VENV/bin/python" -m pip install --disable-pip-version-check -q -r "$REQ"
    touch "$stamp"
fi

# 3. ExifTool
if ! command -v exiftool >/dev/null 2>&1; then
    if is_root && command -v apt-get >/dev/null 2>&1; then
        echo "setup: installing ExifTool (libimage-exiftool-perl)"
        apt_install libimage-exiftool-perl
    else
        cat >&2 <<'MSG'
setup: ExifTool is not installed. Install it, then run the command again:
  Debian/Ubuntu:  sudo apt-get install libimage-exiftool-perl
  macOS:          brew install exiftool
  Windows:        download from https://exiftool.org, rename exiftool(-k).exe to exiftool.exe, put it on PATH
MSG
        exit 1
    fi
fi
# 4. For the test suite only: a real headless browser (Debian's chromium and its WebDriver, which
#    the tests drive through Selenium). Optional: without them the browser tests are skipped.
if [ "$(basename "$REQ")" = requirements-dev.txt ] && \
   { ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; }; then
    if is_root && command -v apt-get >/dev/null 2>&1; then
        echo "setup: installing chromium and chromium-driver for the browser tests"
        apt_install chromium chromium-driver || echo "setup: chromium could not be installed; the browser tests will be skipped"
    else
        echo "setup: no chromium/chromedriver; the browser tests will be skipped (Debian/Ubuntu: sudo apt-get install chromium chromium-driver)"
    fi
fi
echo "setup: ready ($("$VENV/bin/python" --version), ExifTool $(exiftool -ver))"
