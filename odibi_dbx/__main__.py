from odibi_dbx.cli import main

raise SystemExit(main())
