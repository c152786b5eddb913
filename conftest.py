"""Test-session settings shared by the unit tests and the notebooks under nbval.

``train_flow(show_progress=None)`` shows a progress bar in a Jupyter kernel unless
``GAUSS_FLOWS_PROGRESS=0`` (see ``gauss_flows.training.default_show_progress``). The
kernels that nbval starts inherit this process's environment, so setting it here keeps
the notebooks' outputs free of stderr however pytest is invoked.
"""

import os

os.environ["GAUSS_FLOWS_PROGRESS"] = "0"
