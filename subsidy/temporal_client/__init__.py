"""How every part of the service talks to Temporal: the data converter (`client.DATA_CONVERTER`: pydantic payloads,
encrypted by `encryption`, with adapters shared by `converter`) and `client.connect`. Used by the API, the worker and
the CLI alike; the worker's wiring itself (`build_worker`) stays in `subsidy.service.temporal`."""
