"""The reference's property order for the CBV 2.0 event hash (``PROP_ORDER`` of 1.9.3, verbatim).

Fields listed here are hashed first, in this order; everything else follows, sorted. The three
typed lists (``bizTransactionList``, ``sourceList``, ``destinationList``) are listed with a pair
as their child order, which never matches a child: the reference therefore hashes them with the
remaining fields (sorted as whole strings), not here. Kept verbatim for that reason.
"""

from __future__ import annotations

from typing import Any

PropOrder = list[tuple[Any, Any]]
"""(field name, child order or None); a child order is itself a PropOrder."""

PROP_ORDER: PropOrder = [
    ("eventTime", None),
    ("eventTimeZoneOffset", None),
    ("certificationInfo", None),
    ("parentID", None),
    ("epcList", [("epc", None)]),
    ("inputEPCList", [("epc", None)]),
    ("childEPCs", [("epc", None)]),
    (
        "quantityList",
        [("quantityElement", [("epcClass", None), ("quantity", None), ("uom", None)])],
    ),
    (
        "childQuantityList",
        [("quantityElement", [("epcClass", None), ("quantity", None), ("uom", None)])],
    ),
    (
        "inputQuantityList",
        [("quantityElement", [("epcClass", None), ("quantity", None), ("uom", None)])],
    ),
    ("outputEPCList", [("epc", None)]),
    (
        "outputQuantityList",
        [("quantityElement", [("epcClass", None), ("quantity", None), ("uom", None)])],
    ),
    ("action", None),
    ("transformationID", None),
    ("bizStep", None),
    ("disposition", None),
    ("persistentDisposition", [("set", None), ("unset", None)]),
    ("readPoint", [("id", None)]),
    ("bizLocation", [("id", None)]),
    ("bizTransactionList", [(("type", None), ("bizTransaction", None))]),
    ("sourceList", [(("type", None), ("source", None))]),
    ("destinationList", [(("type", None), ("destination", None))]),
    (
        "sensorElementList",
        [
            (
                "sensorElement",
                [
                    (
                        "sensorMetadata",
                        [
                            ("time", None),
                            ("startTime", None),
                            ("endTime", None),
                            ("deviceID", None),
                            ("deviceMetadata", None),
                            ("rawData", None),
                            ("dataProcessingMethod", None),
                            ("bizRules", None),
                        ],
                    ),
                    (
                        "sensorReport",
                        [
                            ("type", None),
                            ("exception", None),
                            ("deviceID", None),
                            ("deviceMetadata", None),
                            ("rawData", None),
                            ("dataProcessingMethod", None),
                            ("time", None),
                            ("microorganism", None),
                            ("chemicalSubstance", None),
                            ("value", None),
                            ("component", None),
                            ("stringValue", None),
                            ("booleanValue", None),
                            ("hexBinaryValue", None),
                            ("uriValue", None),
                            ("minValue", None),
                            ("maxValue", None),
                            ("meanValue", None),
                            ("sDev", None),
                            ("percRank", None),
                            ("percValue", None),
                            ("uom", None),
                            ("coordinateReferenceSystem", None),
                        ],
                    ),
                ],
            )
        ],
    ),
]
