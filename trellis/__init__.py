"""Trellis: a self-hosted Apple device enrollment portal and MDM server."""
