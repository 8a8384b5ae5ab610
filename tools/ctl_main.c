/*
 * hookpipectl: the operator's tool (sign, send, lag, replay, dlq). See
 * docs/hookpipectl.md; everything but this main() is in ctl_core, so the
 * tests link the code that ships.
 */
#include "ctl.h"

int main(int argc, char **argv)
{
    return ctl_main(argc, argv);
}
