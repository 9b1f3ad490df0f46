import HarkConfig
import Testing

@Suite struct TokenHashTests {
    @Test func theStoredFormIsTheSHA256OfTheToken() {
        // FIPS 180-2's test vector for "abc".
        #expect(TokenHash.stored("abc") == "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test func freshTokensMatchOnlyTheirOwnHash() {
        let a = TokenHash.newToken(), b = TokenHash.newToken()
        #expect(a.token != b.token && a.token.count >= 43 && !a.token.contains("="))
        #expect(TokenHash.isValidStored(a.stored) && !TokenHash.isValidStored(a.token))
        #expect(TokenHash.matches(a.token, anyOf: [b.stored, a.stored]))
        #expect(!TokenHash.matches(b.token, anyOf: [a.stored]))
        #expect(!TokenHash.matches(a.stored, anyOf: [a.stored]))   // the hash itself opens nothing
    }
}
