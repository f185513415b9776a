"""`from tfc.python.client import timeline`, as from tensorflow.python.client."""
