#!/usr/bin/env bash
# Sourced by the other scripts: sets PYTHON to a Python 3.12 or newer (the routing wheels need it)
# and keeps .venv on it, or says in French what to install.
find_python() {
  local candidate version
  for candidate in "${PTI_PYTHON:-}" python3.13 python3.12 python3 \
      $(ls -d "$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")"/versions/3.1[2-9]*/bin/python3 2>/dev/null | sort -rV) \
      /usr/local/bin/python3.1[2-9] /usr/bin/python3.1[2-9]; do
    [ -n "$candidate" ] || continue
    command -v "$candidate" >/dev/null 2>&1 || continue
    version=$("$candidate" -c 'import sys; print(sys.version_info >= (3, 12))' 2>/dev/null) || continue
    if [ "$version" = "True" ]; then
      command -v "$candidate"
      return 0
    fi
  done
  return 1
}

if ! PYTHON=$(find_python); then
  echo "Diagnostic PTI a besoin de Python 3.12 ou plus récent, introuvable sur cette machine." >&2
  echo "Installez-le : Debian 13 ou Ubuntu 24.04 le fournissent (« sudo apt-get install python3 python3-venv ») ;" >&2
  echo "sur Debian 12, « pyenv install 3.12 » ; ou indiquez son chemin : PTI_PYTHON=/chemin/vers/python3.12." >&2
  exit 1
fi

# A .venv made by an older Python is rebuilt on the new one.
if [ -x .venv/bin/python ] && ! .venv/bin/python -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
  rm -rf .venv
fi
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
