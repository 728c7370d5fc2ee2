"""The command line's shared helpers: chain options (embedded or --rpc-url), bad input turned into exit code 2
and one line on stderr, progress bars.

Top shared layer: may import every other shared package and the kernel, never a feature. It lives here, not in
cli/, so that the features' cli modules never import gridchain.cli, the entry point.
"""
