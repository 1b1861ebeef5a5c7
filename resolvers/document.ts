import type { Resolvers } from '../src/generated/graphql';

const MAX_TEXT_BYTES = 1_048_576;

export const documentResolvers: Resolvers = {
  Attachment: {
    /** Inline `text/*` content decoded as UTF-8 (notes are usually base64 `text/plain`). */
    text: (p) => {
      const contentType = typeof p.contentType === 'string' ? p.contentType : '';
      if (typeof p.data !== 'string' || !contentType.startsWith('text/')) return null;
      const bytes = Buffer.from(p.data, 'base64');
      return bytes.length > MAX_TEXT_BYTES ? null : bytes.toString('utf8');
    },
  },
};
