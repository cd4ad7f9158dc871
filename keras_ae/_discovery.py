"""Import every module of a package so that its registrations run (adding a family touches nothing central)."""

import importlib
import pkgutil


def import_submodules(package_name, package_path, namespace=None):
    """Import each submodule; copy the names listed in its ``__all__`` into ``namespace``."""
    for info in sorted(pkgutil.iter_modules(package_path), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{package_name}.{info.name}")
        if namespace is not None:
            for name in getattr(module, "__all__", ()):
                namespace[name] = getattr(module, name)
