"""DynamoDB's wire protocol in front of the database (the paper's request routers, §3).

- `protocol` — the envelope: POST /, X-Amz-Target, JSON, SigV4 region, error bodies.
- `shapes` — the request model: SerializationException and Coral's ValidationException.
- `tables`, `items`, `reads`, `batches` — the operations.
- `server` — the raw ASGI application uvicorn serves (`dynamo serve`).
"""
