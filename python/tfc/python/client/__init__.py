from ... import timeline  # noqa: F401 (tfc.timeline)
