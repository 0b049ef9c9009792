"""Request and response models of the API. ORM rows never leave the API."""
