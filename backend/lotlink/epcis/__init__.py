"""EPCIS 2.0 events: the CBV 2.0 event hash and validation against GS1's JSON Schema."""
