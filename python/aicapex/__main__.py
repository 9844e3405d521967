import gc

from aicapex.cli import main

code = main()
gc.freeze()  # the process ends here: spare the last collection a walk over every object
raise SystemExit(code)
