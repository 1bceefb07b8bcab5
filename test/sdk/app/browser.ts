// A browser entry, bundled by esbuild for the browser platform (no Node built-ins may
// be pulled in). The test then runs the bundle against a real Keyward.
import { createClient } from "@keyward/sdk";

export async function signUp(url: string, email: string): Promise<string> {
  const { signUp } = await createClient({ url }).signUp({
    input: { email, password: "a long passphrase", name: "Browser" },
  });
  return signUp.user.email;
}
