from aicapex.cli import main

raise SystemExit(main())
