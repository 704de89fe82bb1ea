"""Login protection: client address, lockout, second factor, session idle timeout (docs/adr/0009)."""
