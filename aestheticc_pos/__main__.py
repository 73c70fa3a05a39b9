from aestheticc_pos.cli import main

raise SystemExit(main())
