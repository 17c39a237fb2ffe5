"""The demo: a walk through sample requests, the States' simulator and the demo keys."""
