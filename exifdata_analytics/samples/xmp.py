"""An XMP packet as photo managers write it (``xmp:Rating`` stars), to embed in a PNG's iTXt
chunk ``XML:com.adobe.xmp`` (where the XMP specification puts XMP in a PNG) with ``write_png``."""
from __future__ import annotations

import logging

logger = logging.getLogger(__name__)

XMP_PNG_KEYWORD = "XML:com.adobe.xmp"


def xmp_packet(rating: float) -> str:
    """An XMP packet with ``xmp:Rating`` (-1 rejected, 0 not rated, 1..5 stars); ExifTool
    reads it as ``XMP-xmp:Rating``."""
    if not -1 <= rating <= 5:
        raise ValueError(f"an XMP rating is -1..5, got {rating!r}")
    value = int(rating) if float(rating).is_integer() else rating
    return ('<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
            '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
            f'<rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:Rating="{value}"/>'
            '</rdf:RDF></x:xmpmeta><?xpacket end="w"?>')
