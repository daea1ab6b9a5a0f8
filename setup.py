"""Which packages the wheel carries; everything else about the project is in pyproject.toml.

The widget's source stays in the top-level widget_js/ folder (the snippet is its own small
project there) and ships inside the package as server.widget_js, so `pip install .` serves it.
pyproject.toml cannot say this: its package finder cannot add a package that lives elsewhere.
"""

from setuptools import find_namespace_packages, setup

setup(
    packages=[
        *find_namespace_packages(include=["server*", "demo_shop*"], exclude=["*.__pycache__"]),
        "server.widget_js",
    ],
    package_dir={"server.widget_js": "widget_js"},
)
