"""Files written the same way every time: same inputs, same bytes.

Foundation module: any stage may import it; it imports nothing of the package.
"""

from __future__ import annotations

import io
import re
import zipfile

__all__ = ["deterministic_zip"]

_FIXED_ZIP_DATE = (1980, 1, 1, 0, 0, 0)
_FIXED_CORE_DATE = "1980-01-01T00:00:00Z"

def deterministic_zip(data: bytes) -> bytes:
    """Rewrite an xlsx with fixed entry dates and fixed document dates."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            content = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = re.sub(rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:\2>)",
                                 rb"\g<1>" + _FIXED_CORE_DATE.encode() + rb"\g<3>", content)
            fixed = zipfile.ZipInfo(info.filename, date_time=_FIXED_ZIP_DATE)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            dst.writestr(fixed, content)
    return out.getvalue()
