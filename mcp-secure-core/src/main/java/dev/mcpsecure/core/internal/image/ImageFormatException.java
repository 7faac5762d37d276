package dev.mcpsecure.core.internal.image;

import java.io.IOException;

/** The image tarball is not what it claims to be; the message is one line, safe to show. */
public final class ImageFormatException extends IOException {

    private static final long serialVersionUID = 1L;

    /** With a one-line message naming the problem. */
    public ImageFormatException(String message) {
        super(message);
    }
}
