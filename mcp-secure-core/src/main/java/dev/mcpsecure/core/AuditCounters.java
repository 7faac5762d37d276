package dev.mcpsecure.core;

/**
 * How many call audit events went where since the server started; see {@code audit.failMode} in
 * the policy. Expose them to monitoring: {@code failed} or {@code dropped} above zero means calls
 * were refused (fail closed) or went on unaudited (fail open).
 *
 * @param recorded written by the sink in time
 * @param failed the sink threw, or took longer than {@code audit.timeout}
 * @param dropped not offered to a sink that was stuck past its timeout
 */
public record AuditCounters(long recorded, long failed, long dropped) {}
