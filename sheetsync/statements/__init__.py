"""Customer statements delivered: one PDF per customer (build.py), e-mailed once (send.py).

    pdfs = build_statements(connections, out_dir, params={"states": "CA"}, settings=settings)
    plan = plan_sends(load_manifest(out_dir), recipients, store, SendOptions(...))
    send_planned(plan, smtp, store)           # records each outcome in the state store

The PDF directory holds the PDFs and `statements.json` (the manifest: customer, statement date,
amount due, file and its SHA-256), which is what `send` reads.
"""
