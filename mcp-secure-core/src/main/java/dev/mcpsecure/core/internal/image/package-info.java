/** Reading container image tarballs for {@code ImageCheck}: a bounded tar reader. Not API. */
package dev.mcpsecure.core.internal.image;
