"""Open311 GeoReport v2 at /open311/v2/: the interoperability standard civic software speaks."""
