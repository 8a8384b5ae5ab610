/*
 * bn_gen: `hp-load gen`, which writes a corpus of signed webhook requests.
 *
 * Request i has the body (exactly --body-size bytes)
 *
 *   {"id":"bench-<run>-<i>","type":"order.paid","order_id":"o-<i>","pad":"…"}
 *
 * so every request has its own event id and key and the records spread over
 * the partitions; the padding is pseudo-random letters and digits, so a
 * compressing producer gains no more than on real payloads. Each body is
 * signed with hp_sig_sign() for the named source of a hookpipe
 * configuration, exactly as that source's provider would sign it. Schemes
 * with a timestamp (stripe, slack, standard-webhooks, livekit) make a corpus
 * that the gateway accepts only for tolerance_s (or the JWT lifetime)
 * after it was generated.
 */
#ifndef BN_GEN_H
#define BN_GEN_H

/* The `gen` subcommand; argv[0] is "gen". Returns the exit code: 0 written,
 * 1 I/O error, 2 usage or configuration error. @thread main */
int bn_gen_main(int argc, char **argv);

#endif /* BN_GEN_H */
