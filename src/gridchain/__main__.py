from gridchain.cli import main

main()
