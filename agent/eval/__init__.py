"""Understanding evaluation: public sentence suites run against a home of virtual devices."""
