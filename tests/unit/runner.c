/*
 * The main() of every check_<module> program: runs that module's
 * unit_suite().  CK_RUN_CASE and CK_FORK=no select and debug one case.
 */
#include <stdlib.h>
#include <check.h>

Suite	*unit_suite(void);

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(unit_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
