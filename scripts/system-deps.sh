#!/usr/bin/env bash
# The system packages (Debian) the project needs, checked and, as root, installed.
#
#   scripts/system-deps.sh python   to make the virtual environment: python3-venv
#   scripts/system-deps.sh report   + what `make report` needs: pango (WeasyPrint draws the PDF with it)
#                                     and fonts that cover Vietnamese
#   scripts/system-deps.sh test     + what the tests need: Chromium (the report opened in a browser),
#                                     poppler-utils (pdftotext, pdftoppm: reading the PDF back),
#                                     LibreOffice Calc and Writer (opening the generated workbook and document)
#
# Used by the Makefile (on every `make report` / `make test`, after the first in a fraction of a second)
# and by .ci/run. Nothing missing: says nothing, exit 0. Something missing: as root, installs it with
# apt-get; otherwise prints the exact command to run and stops with exit status 1.
# PYTHON (default python3) is the interpreter the virtual environment is made from.
set -euo pipefail

profile="${1:-test}"
case "$profile" in python|report|test) ;; *) echo "system-deps.sh: python, report hoặc test (không phải «$profile»)" >&2; exit 2;; esac

# Each requirement: "package[|alternative...]" — met when any of them is installed.
need=()
if ! "${PYTHON:-python3}" -c "import ensurepip, venv" >/dev/null 2>&1; then
  need+=("python3-venv")        # Debian's python3 makes no virtual environment without it
fi
if [[ "$profile" != python ]]; then
  need+=(
    "libpango-1.0-0"            # WeasyPrint lays out and draws the PDF with pango
    "libpangoft2-1.0-0"
    "fonts-dejavu-core"         # fonts that cover every Vietnamese letter (report, charts)
    "fonts-liberation2"         # Liberation Sans/Serif/Mono (Liberation Serif: a Times-metric serif)
  )
fi
if [[ "$profile" == test ]]; then
  need+=(
    "chromium"                  # tests open the HTML report in headless Chromium
    "poppler-utils"             # pdftotext, pdftoppm: tests read the PDF back
    "libreoffice-calc-nogui|libreoffice-calc"       # tests reopen the Excel forms in LibreOffice Calc
    "libreoffice-writer-nogui|libreoffice-writer"   # tests convert the Word document with LibreOffice Writer
  )
fi

installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"
}

missing=()
if command -v dpkg-query >/dev/null 2>&1; then
  for req in "${need[@]}"; do
    met=no
    IFS='|' read -r -a options <<< "$req"
    for pkg in "${options[@]}"; do
      if installed "$pkg"; then met=yes; break; fi
    done
    [[ $met == yes ]] || missing+=("${options[0]}")
  done
else
  # Not a Debian system: check the programs themselves and name what is missing.
  for req in "${need[@]}"; do
    case "$req" in
      chromium) command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || missing+=(chromium);;
      poppler-utils) command -v pdftotext >/dev/null 2>&1 || missing+=(poppler-utils);;
      libreoffice-*) command -v soffice >/dev/null 2>&1 || missing+=("${req%%|*}");;
      python3-venv) missing+=(python3-venv);;
    esac
  done
  if ((${#missing[@]})); then
    echo "Thiếu phần mềm hệ thống: ${missing[*]}. Máy không dùng apt (Debian/Ubuntu): hãy cài các gói tương ứng rồi chạy lại." >&2
    exit 1
  fi
  exit 0
fi

((${#missing[@]})) || exit 0

command=(apt-get install -y --no-install-recommends "${missing[@]}")
if [[ $(id -u) -ne 0 ]]; then
  echo "Thiếu gói hệ thống: ${missing[*]}." >&2
  echo "Chạy lệnh sau (cần quyền quản trị) rồi chạy lại:" >&2
  echo "  sudo apt-get update && sudo ${command[*]}" >&2
  exit 1
fi
echo "Cài gói hệ thống còn thiếu: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
"${command[@]}" -qq
