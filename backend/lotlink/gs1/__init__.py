"""GS1 identifiers: GTINs, GLNs, lot codes, and the lot key Lotlink derives from them."""
