"""The package's version (semantic versioning: a release that changes a public name's behaviour or removes one
raises the minor number while below 1.0; CHANGELOG.md lists what each release changed). The cache's keys never
read it (:func:`reptheory.cache.code_version` keys on code, :mod:`reptheory.lab.key` on values)."""
__version__ = "0.2.0"
